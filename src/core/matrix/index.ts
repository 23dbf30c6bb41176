// Public surface of the branch/tag matrix.
export { sweep, SweepCancelled } from './sweep';
export { exportMatrix, toCsv, toJson, toMarkdown, pointerText, isoDate, COLUMNS } from './export';
export type { ExportFormat } from './export';
export { carries, seriesOf } from './lines';
export * from './types';
