// The Slack-compatible body POSTed when a decision changes (contract §3.1).
import type { Decision, Verdict } from '../verdict/decide.js';

export interface AlertBody {
  text: string;
  route: string | null;
  from: Decision | null;
  to: Decision;
  verdict: Verdict;
}

export function alertBody(from: Decision | null, v: Verdict): AlertBody {
  const scope = v.route === null ? 'all routes' : `route ${v.route}`;
  return {
    text: `shadowmesh: ${scope} ${from ?? 'none'} → ${v.decision} (${v.summary})`,
    route: v.route,
    from,
    to: v.decision,
    verdict: v,
  };
}
