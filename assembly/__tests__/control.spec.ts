import { parseConfig, Config } from "../filter/config";
import { applyControl, controlActive, resetControl, sampleThreshold, CONTROL_APPLIED, CONTROL_MALFORMED, CONTROL_NONE } from "../filter/control";
import { ROUTE_ALL } from "../filter/route";

function config(s: string): Config {
  const b = String.UTF8.encode(s);
  const c = parseConfig(changetype<usize>(b), b.byteLength).config!;
  resetControl(c);
  return c;
}

function apply(cfg: Config, s: string): i32 {
  const b = String.UTF8.encode(s);
  return applyControl(cfg, changetype<usize>(b), b.byteLength);
}

describe("remote control", () => {
  it("lowers a route to min(configured, control), with * for the others", () => {
    const cfg = config(`{"routes": [{"name": "a", "path_prefix": "/a", "sample_percent": 40}, {"name": "b", "path_prefix": "/b"}]}`);
    expect(sampleThreshold(cfg, 0)).toBe(4000);
    expect(apply(cfg, `{"control": {"sample_percent": {"a": 10, "*": 60}}}`)).toBe(CONTROL_APPLIED);
    expect(sampleThreshold(cfg, 0)).toBe(1000);
    expect(sampleThreshold(cfg, 1)).toBe(6000);
    expect(apply(cfg, `{"control": {"sample_percent": {"a": 90}}}`)).toBe(CONTROL_APPLIED);
    expect(sampleThreshold(cfg, 0)).toBe(4000);
    expect(sampleThreshold(cfg, 1)).toBe(10000);
  });
  it("restores the configuration on an answer without control", () => {
    const cfg = config(`{"sample_percent": 50}`);
    apply(cfg, `{"control": {"sample_percent": {"*": 0}}}`);
    expect(sampleThreshold(cfg, ROUTE_ALL)).toBe(0);
    expect(controlActive()).toBe(true);
    expect(apply(cfg, `{"accepted": 3}`)).toBe(CONTROL_NONE);
    expect(sampleThreshold(cfg, ROUTE_ALL)).toBe(5000);
    expect(controlActive()).toBe(false);
    apply(cfg, `{"control": {"sample_percent": {"*": 0}}}`);
    expect(apply(cfg, `{"control": null}`)).toBe(CONTROL_NONE);
    expect(sampleThreshold(cfg, ROUTE_ALL)).toBe(5000);
  });
  it("is not in force when it names only routes this filter does not have", () => {
    const cfg = config(`{"routes": [{"name": "a", "path_prefix": "/a"}]}`);
    expect(apply(cfg, `{"control": {"sample_percent": {"other": 0}}}`)).toBe(CONTROL_APPLIED);
    expect(controlActive()).toBe(false);
    expect(apply(cfg, `{"control": {"sample_percent": {}}}`)).toBe(CONTROL_APPLIED);
    expect(controlActive()).toBe(false);
    expect(apply(cfg, `{"control": {"sample_percent": {"a": 0}}}`)).toBe(CONTROL_APPLIED);
    expect(controlActive()).toBe(true);
  });
  it("ignores a malformed control as a whole and keeps the previous state", () => {
    const cfg = config(`{}`);
    apply(cfg, `{"control": {"sample_percent": {"*": 7}}}`);
    expect(apply(cfg, `{"control": {"sample_percent": {"*": 1, "x": "2"}}}`)).toBe(CONTROL_MALFORMED);
    expect(apply(cfg, `{"control": {"sample_percent": {"*": 100.5}}}`)).toBe(CONTROL_MALFORMED);
    expect(apply(cfg, `{"control": 0}`)).toBe(CONTROL_MALFORMED);
    expect(apply(cfg, `nope`)).toBe(CONTROL_MALFORMED);
    expect(apply(cfg, `[`)).toBe(CONTROL_MALFORMED);
    expect(sampleThreshold(cfg, ROUTE_ALL)).toBe(700);
  });
});
