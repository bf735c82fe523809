// LOSS membership-inference attack (Yeom et al. 2018): the score is the sample's mean NLL over its answer tokens.
// Lower loss ⇒ more likely a training member. open-unlearning `LOSSAttack`.

export function lossScore(avgLoss: number): number {
  return avgLoss;
}
