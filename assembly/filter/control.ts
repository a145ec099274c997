// Remote control (contract §1, 1.1): a collector's answer to a batch may carry
// `"control": {"sample_percent": {ROUTE or "*": x}}`. The effective sample percent of
// a route is then min(configured, x), with "*" for routes without a value of their
// own; an answer without control (or with `"control": null`) restores the configured
// values. A collector can only lower sampling, never raise it. A control that is not
// of that shape is ignored as a whole (the previous state stays) and counted.
// Parsing happens once per batch answer, never on the request path; the request path
// reads one flag, and one array slot when a control is in force.
import { ByteBuf } from "../abi/bytes";
import { Config } from "./config";
import { JsonReader, JValue, J_NULL, J_NUM, J_OBJ } from "./jsonparse";
import { ROUTE_ALL } from "./route";

export const CONTROL_NONE: i32 = 0;
export const CONTROL_APPLIED: i32 = 1;
export const CONTROL_MALFORMED: i32 = -1;

/** Answers larger than this are not parsed (the control stays as it was). */
export const MAX_ANSWER_BYTES: i32 = 262144;

/** sample_percent × 100 from the control: for "*", and per configured route; -1 = none. */
let all: f64 = -1;
let perRoute: StaticArray<f64> = new StaticArray<f64>(0);
let active = false;

/** The answer body, kept between batches so reading it allocates only when it grows. */
export const answer = new ByteBuf();

function clear(): void {
  all = -1;
  for (let i = 0, n = perRoute.length; i < n; i++) unchecked(perRoute[i] = -1);
  active = false;
}

/** A new configuration starts with no control in force. */
export function resetControl(cfg: Config): void {
  perRoute = new StaticArray<f64>(cfg.routes.length);
  clear();
}

/** Whether a control currently lowers any route. */
export function controlActive(): bool {
  return active;
}

/** The threshold (sample_percent × 100) the sampler compares a request's bucket with. */
export function sampleThreshold(cfg: Config, route: i32): f64 {
  const configured = route == ROUTE_ALL ? cfg.samplePercent * 100 : unchecked(cfg.routes[route]).threshold;
  if (!active) return configured;
  let c: f64 = route >= 0 ? unchecked(perRoute[route]) : -1;
  if (c < 0) c = all;
  return c >= 0 && c < configured ? c : configured;
}

function member(obj: JValue, key: string): JValue | null {
  for (let i = 0; i < obj.keys.length; i++) if (obj.keys[i] == key) return obj.items[i];
  return null;
}

/** Applies the control of one 2xx batch answer (n bytes at p); returns CONTROL_*. */
export function applyControl(cfg: Config, p: usize, n: i32): i32 {
  if (n == 0) { clear(); return CONTROL_NONE; }
  const root = new JsonReader(p, n).parse();
  if (root === null || root.kind != J_OBJ) return CONTROL_MALFORMED;
  const control = member(root, "control");
  if (control === null || control.kind == J_NULL) { clear(); return CONTROL_NONE; }
  if (control.kind != J_OBJ) return CONTROL_MALFORMED;
  const sp = member(control, "sample_percent");
  if (sp === null || sp.kind == J_NULL) { clear(); return CONTROL_NONE; }
  if (sp.kind != J_OBJ) return CONTROL_MALFORMED;
  for (let i = 0; i < sp.items.length; i++) {
    const v = sp.items[i];
    if (v.kind != J_NUM || !(v.num >= 0 && v.num <= 100)) return CONTROL_MALFORMED;
  }
  clear();
  const routes = cfg.routes;
  for (let i = 0; i < sp.keys.length; i++) {
    const k = sp.keys[i];
    const t = sp.items[i].num * 100;
    if (k == "*") { all = t; active = true; continue; }
    for (let r = 0; r < routes.length; r++) {
      if (routes[r].name == k) { perRoute[r] = t; active = true; }
    }
  }
  // Values only for routes this filter does not have leave it as configured (and not polling).
  return CONTROL_APPLIED;
}
