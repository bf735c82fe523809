// Area under the ROC curve for binary labels, equal to sklearn.metrics.roc_auc_score: tied scores form one ROC
// step (trapezoid), which is the Mann–Whitney U statistic with tied pairs counted 1/2 (Hanley & McNeil 1982).

/**
 * AUC of `scores` ranking label-1 items above label-0 items. Labels are 0/1 (or booleans); both classes must occur
 * (sklearn raises the same error).
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`rocAuc: ${n} scores but ${labels.length} labels`);
  const items: { s: number; y: number }[] = [];
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (!Number.isFinite(s)) throw new Error(`rocAuc: scores[${i}] is ${s} (must be finite)`);
    const raw = labels[i];
    const y = raw === true ? 1 : raw === false ? 0 : raw;
    if (y !== 0 && y !== 1) throw new Error(`rocAuc: labels[${i}] is ${String(raw)} (expected 0 or 1)`);
    positives += y;
    items.push({ s, y });
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error('rocAuc: only one class present in labels; ROC AUC is not defined in that case');
  }
  // Average ranks (1-based) of each tie group; U = Σ ranks of positives − P(P+1)/2.
  items.sort((p, q) => p.s - q.s);
  let rankSumPositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    let groupPositives = 0;
    while (j < n && items[j].s === items[i].s) groupPositives += items[j++].y;
    const averageRank = (i + 1 + j) / 2;
    rankSumPositives += groupPositives * averageRank;
    i = j;
  }
  const u = rankSumPositives - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}
