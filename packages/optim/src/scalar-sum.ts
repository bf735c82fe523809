// The backend-safe sums live in @unlearn/tensors (one home, next to the webgpu AddN fix).
export { sumScalars, addAll } from '@unlearn/tensors/sums';
