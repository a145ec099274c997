// ml-logistic-regression ships no type declarations; this is the part the demo uses.
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';

  class LogisticRegressionTwoClasses {
    testScores(features: Matrix): number[];
  }

  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    classifiers: LogisticRegressionTwoClasses[];
    numberClasses: number;
    train(X: Matrix, Y: Matrix): void;
    predict(X: Matrix): number[];
    toJSON(): unknown;
    static load(model: unknown): LogisticRegression;
  }
}
