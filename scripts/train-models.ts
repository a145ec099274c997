// Trains the demo's two model versions and writes them, with the held-out test
// set, to models/. Run with `npm run train`; the output is committed, so the
// demo itself never trains. Deterministic: the same data gives the same files.
//
// Data: vega-datasets' weather.csv (NOAA daily observations for Seattle and
// New York, 2012–2015). The task: did it rain that day (precipitation > 0)?
//   v1 (production): trained on 2012–2013.
//   v2 (candidate):  the same model retrained on 2012–2014, a year more data.
//   held out:        every 2015 day, which neither version saw.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { FEATURE_NAMES, features, LOCATIONS, type Location, type WeatherInput, type WeatherLabel } from '../src/demo/model/features.js';
import { fitScale, type ModelFile, standardise, WeatherModel } from '../src/demo/model/logistic.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SOURCE = 'vega-datasets weather.csv (NOAA daily observations, Seattle and New York)';

interface Example {
  input: WeatherInput;
  label: WeatherLabel;
}

/**
 * vega-datasets (43 MB of data, one CSV of it used) is not a devDependency, so
 * that `npm ci` does not fetch and unpack it: `npm run train` brings a pinned
 * version through `npx -p`, whose install directory npm puts on PATH as
 * `<dir>/node_modules/.bin`; resolve the package from there (or from the
 * project, if someone installed it).
 */
function weatherCsv(): string {
  const npxDirs = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => basename(p) === '.bin' && basename(dirname(p)) === 'node_modules')
    .map((p) => dirname(dirname(p)));
  let main: string;
  try {
    main = require.resolve('vega-datasets', { paths: [root, ...npxDirs] });
  } catch {
    throw new Error('vega-datasets not found: run `npm run train` (it brings the pinned version with npx)');
  }
  return join(dirname(main), '..', 'data', 'weather.csv');
}

function loadExamples(): Example[] {
  const csv = weatherCsv();
  const [header, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
  if (header !== 'location,date,precipitation,temp_max,temp_min,wind,weather') throw new Error(`unexpected weather.csv header: ${header}`);
  return lines.map((line) => {
    const [location, date, precipitation, tempMax, tempMin, wind] = line.split(',');
    if (!LOCATIONS.includes(location as Location)) throw new Error(`unexpected location ${location}`);
    return {
      input: { location: location as Location, date: date!, temp_max: Number(tempMax), temp_min: Number(tempMin), wind: Number(wind) },
      label: Number(precipitation) > 0 ? 'rain' : 'dry',
    };
  });
}

function train(version: string, rows: Example[], test: Example[]): ModelFile {
  const raw = rows.map((e) => features(e.input));
  const scale = fitScale(raw);
  // Class 1 = rain: the library's one-vs-all classifier 0 learns "not class 0", i.e. rain (RAIN_CLASSIFIER).
  const y = Matrix.columnVector(rows.map((e) => (e.label === 'rain' ? 1 : 0)));
  const lr = new LogisticRegression({ numSteps: 2_000, learningRate: 5e-4 });
  lr.train(new Matrix(raw.map((r) => standardise(r, scale))), y);
  const dates = rows.map((e) => e.input.date).sort();
  const file: ModelFile = {
    format: 'shadowmesh-demo-model/1',
    version,
    library: 'ml-logistic-regression',
    task: 'P(rain) for a day from its temperatures, wind, season and location',
    features: FEATURE_NAMES,
    scale,
    threshold: 0.5,
    trained_on: { source: SOURCE, from: dates[0]!, to: dates.at(-1)!, rows: rows.length },
    evaluation: { source: SOURCE, rows: test.length, accuracy: 0 },
    model: JSON.parse(JSON.stringify(lr.toJSON())),
  };
  const model = new WeatherModel(file);
  const correct = test.filter((e) => model.predict(e.input).label === e.label).length;
  file.evaluation.accuracy = Math.round((correct / test.length) * 10_000) / 10_000;
  return file;
}

const all = loadExamples();
const heldOut = all.filter((e) => e.input.date >= '2015-01-01');
const v1 = train('v1', all.filter((e) => e.input.date < '2014-01-01'), heldOut);
const v2 = train('v2', all.filter((e) => e.input.date < '2015-01-01'), heldOut);

mkdirSync(join(root, 'models'), { recursive: true });
writeFileSync(join(root, 'models', 'v1.json'), `${JSON.stringify(v1, null, 1)}\n`);
writeFileSync(join(root, 'models', 'v2.json'), `${JSON.stringify(v2, null, 1)}\n`);
writeFileSync(
  join(root, 'models', 'holdout.json'),
  `${JSON.stringify({ source: SOURCE, from: '2015-01-01', rows: heldOut.map((e) => ({ ...e.input, label: e.label })) })}\n`,
);

const m1 = new WeatherModel(v1);
const m2 = new WeatherModel(v2);
const agree = heldOut.filter((e) => m1.predict(e.input).label === m2.predict(e.input).label).length;
const rainy = heldOut.filter((e) => e.label === 'rain').length;
process.stdout.write(
  [
    `held out: ${heldOut.length} days of 2015 (${((rainy / heldOut.length) * 100).toFixed(1)}% rain)`,
    `v1: trained on ${v1.trained_on.rows} days ${v1.trained_on.from}..${v1.trained_on.to}, held-out accuracy ${(v1.evaluation.accuracy * 100).toFixed(1)}%`,
    `v2: trained on ${v2.trained_on.rows} days ${v2.trained_on.from}..${v2.trained_on.to}, held-out accuracy ${(v2.evaluation.accuracy * 100).toFixed(1)}%`,
    `v1 and v2 give the same label on ${agree} of ${heldOut.length} held-out days`,
    'wrote models/v1.json, models/v2.json, models/holdout.json',
    '',
  ].join('\n'),
);
