// Side-effect module: registers every metric of this package (`get('metric', name)()`, `unlearn list`).
import './metric-probability.js';
import './metric-probability-with-options.js';
import './metric-truth-ratio.js';
import './metric-rouge.js';
import './metric-aggregates.js';
import './metric-mia.js';
import './metric-memorization.js';
import './metric-mia-gradnorm.js';
import './metric-muse.js';
import './metric-multiple-choice.js';
