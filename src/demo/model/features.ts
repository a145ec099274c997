// The demo model's input and its features, shared by training and serving so
// both see exactly the same numbers.
//
// The task: will it rain (any precipitation) on a day, given that day's
// temperatures and wind in Seattle or New York (vega-datasets' weather.csv,
// 2012–2015, NOAA daily observations)?

export const LOCATIONS = ['Seattle', 'New York'] as const;
export type Location = (typeof LOCATIONS)[number];

/** What a caller sends to POST /predict. */
export interface WeatherInput {
  location: Location;
  /** YYYY-MM-DD; only the month is used (the season). */
  date: string;
  temp_max: number;
  temp_min: number;
  wind: number;
}

export type WeatherLabel = 'rain' | 'dry';

export const FEATURE_NAMES = ['temp_max', 'temp_min', 'temp_range', 'wind', 'season_cos', 'season_sin', 'seattle'] as const;

export function features(x: WeatherInput): number[] {
  const month = Number(x.date.slice(5, 7));
  const angle = (month / 12) * 2 * Math.PI;
  return [x.temp_max, x.temp_min, x.temp_max - x.temp_min, x.wind, Math.cos(angle), Math.sin(angle), x.location === 'Seattle' ? 1 : 0];
}

/** Why `v` is not a WeatherInput, or null when it is one. */
export function inputError(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'body must be a JSON object';
  const o = v as Record<string, unknown>;
  if (!LOCATIONS.includes(o['location'] as Location)) return `location must be one of ${LOCATIONS.map((l) => JSON.stringify(l)).join(', ')}`;
  if (typeof o['date'] !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])-\d{2}$/.test(o['date'])) return 'date must be YYYY-MM-DD';
  for (const k of ['temp_max', 'temp_min', 'wind'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return `${k} must be a number`;
  }
  return null;
}
