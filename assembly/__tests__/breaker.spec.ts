import { Breaker, BREAKER_CLOSED, BREAKER_OPEN, BREAKER_PROBING, copyFailed } from "../filter/breaker";

const MS: u64 = 1000000;

function breaker(failures: i32, cooldownMs: u32): Breaker {
  const b = new Breaker();
  b.configure(failures, cooldownMs);
  return b;
}

describe("shadow breaker", () => {
  it("opens after N consecutive failures, not N-1", () => {
    const b = breaker(3, 1000);
    expect(b.record(false, 1 * MS)).toBe(false);
    expect(b.record(false, 2 * MS)).toBe(false);
    expect(b.state).toBe(BREAKER_CLOSED);
    expect(b.allow(2 * MS)).toBe(true);
    expect(b.record(false, 3 * MS)).toBe(true);
    expect(b.state).toBe(BREAKER_OPEN);
    expect(b.opened).toBe(1);
  });
  it("a success in between resets the count", () => {
    const b = breaker(3, 1000);
    b.record(false, 0);
    b.record(false, 0);
    b.record(true, 0);
    b.record(false, 0);
    b.record(false, 0);
    expect(b.state).toBe(BREAKER_CLOSED);
    expect(b.failures).toBe(2);
  });
  it("refuses copies for the cooldown, then lets exactly one probe through", () => {
    const b = breaker(1, 1000);
    b.record(false, 10 * MS);
    expect(b.allow(10 * MS)).toBe(false);
    expect(b.allow(1009 * MS)).toBe(false);
    expect(b.allow(1010 * MS)).toBe(true);
    expect(b.state).toBe(BREAKER_PROBING);
    expect(b.allow(1011 * MS)).toBe(false);
    expect(b.allow(1500 * MS)).toBe(false);
  });
  it("a successful probe closes it; a failed probe opens it for another cooldown", () => {
    const b = breaker(2, 100);
    b.record(false, 0);
    b.record(false, 0);
    expect(b.allow(100 * MS)).toBe(true);
    expect(b.record(false, 150 * MS)).toBe(true);
    expect(b.state).toBe(BREAKER_OPEN);
    expect(b.opened).toBe(2);
    expect(b.allow(249 * MS)).toBe(false);
    expect(b.allow(250 * MS)).toBe(true);
    b.record(true, 260 * MS);
    expect(b.state).toBe(BREAKER_CLOSED);
    expect(b.failures).toBe(0);
    expect(b.allow(260 * MS)).toBe(true);
  });
  it("answers of copies sent before it opened change nothing while it is open", () => {
    const b = breaker(1, 100);
    b.record(false, 0);
    b.record(true, 1 * MS);
    expect(b.state).toBe(BREAKER_OPEN);
    b.record(false, 50 * MS);
    expect(b.since).toBe(0);
    expect(b.opened).toBe(1);
  });
  it("a probe that never answers does not block forever: another probe after a cooldown", () => {
    const b = breaker(1, 100);
    b.record(false, 0);
    expect(b.allow(100 * MS)).toBe(true);
    expect(b.allow(199 * MS)).toBe(false);
    expect(b.allow(200 * MS)).toBe(true);
  });
  it("failures 0 turns it off", () => {
    const b = breaker(0, 100);
    for (let i = 0; i < 100; i++) expect(b.record(false, 0)).toBe(false);
    expect(b.allow(0)).toBe(true);
  });
  it("a clock that goes backwards keeps it open", () => {
    const b = breaker(1, 100);
    b.record(false, 1000 * MS);
    expect(b.allow(5 * MS)).toBe(false);
  });
  it("a failed copy is status 0 or 5xx", () => {
    expect(copyFailed(0)).toBe(true);
    expect(copyFailed(500)).toBe(true);
    expect(copyFailed(503)).toBe(true);
    expect(copyFailed(499)).toBe(false);
    expect(copyFailed(200)).toBe(false);
    expect(copyFailed(404)).toBe(false);
  });
});
