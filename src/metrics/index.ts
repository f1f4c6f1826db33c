/** Evaluation metrics: image level (ROC AUC, AP, best F1) and pixel level (the same, plus AUPRO). */
export { rocAuc, rocCurve, type RocCurve } from './roc.js';
export { binaryMetrics, type BinaryMetrics } from './binaryMetrics.js';
export { averagePrecision } from './averagePrecision.js';
export { f1Max, type F1Max } from './f1.js';
export { aupro, type AuproOptions, proCurve } from './aupro.js';
export { connectedComponents, type Components } from './connectedComponents.js';
