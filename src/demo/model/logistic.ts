// The demo's classifier: ml-logistic-regression on standardised features, kept
// as JSON (models/v1.json, models/v2.json) so serving needs no training.
import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { FEATURE_NAMES, features, type WeatherInput, type WeatherLabel } from './features.js';

export interface ModelFile {
  format: 'shadowmesh-demo-model/1';
  version: string;
  library: string;
  task: string;
  features: readonly string[];
  /** Per-feature mean and standard deviation of the training rows. */
  scale: { mean: number[]; std: number[] };
  /** Score at or above which the label is "rain". */
  threshold: number;
  trained_on: { source: string; from: string; to: string; rows: number };
  evaluation: { source: string; rows: number; accuracy: number };
  /** ml-logistic-regression's own toJSON(). */
  model: unknown;
}

export interface Prediction {
  label: WeatherLabel;
  score: number;
}

/** ml-logistic-regression is one-vs-all: classifier 0 is trained on "not class 0", i.e. on rain. */
const RAIN_CLASSIFIER = 0;

export class WeatherModel {
  private readonly lr: LogisticRegression;

  constructor(readonly file: ModelFile) {
    if (file.format !== 'shadowmesh-demo-model/1') throw new Error(`unknown model format ${JSON.stringify(file.format)}`);
    if (file.features.join() !== FEATURE_NAMES.join()) throw new Error(`model features ${file.features.join()} differ from the server's ${FEATURE_NAMES.join()}`);
    this.lr = LogisticRegression.load(file.model);
  }

  row(x: WeatherInput): number[] {
    return standardise(features(x), this.file.scale);
  }

  predict(x: WeatherInput): Prediction {
    const score = this.lr.classifiers[RAIN_CLASSIFIER]!.testScores(new Matrix([this.row(x)]))[0]!;
    return { label: score >= this.file.threshold ? 'rain' : 'dry', score: Math.round(score * 10_000) / 10_000 };
  }
}

/** A leading 1 for the intercept (the library fits none), then z-scores. */
export function standardise(raw: number[], scale: { mean: number[]; std: number[] }): number[] {
  return [1, ...raw.map((v, j) => (v - scale.mean[j]!) / scale.std[j]!)];
}

export function fitScale(rows: number[][]): { mean: number[]; std: number[] } {
  const n = rows.length;
  const mean = rows[0]!.map((_, j) => rows.reduce((a, r) => a + r[j]!, 0) / n);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / n) || 1);
  return { mean, std };
}
