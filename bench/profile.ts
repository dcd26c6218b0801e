import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Summarises the V8 CPU profiles (`node --cpu-prof`) of one engine operation: the main thread
 * and every worker thread write their own .cpuprofile. Self time is summed per function, so
 * the table says where the process spent its CPU, and idle time says how much was waiting.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ThreadSummary {
  file: string;
  seconds: number;
  busyPercent: number;
  top: { fn: string; percent: number }[];
}

const shortUrl = (u: string): string => u.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');

/** Top `n` functions by self time, per thread profile found in `dir`. */
export function summariseProfiles(dir: string, n = 8): ThreadSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((file) => {
      const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      const total = p.nodes.reduce((a, x) => a + (x.hitCount ?? 0), 0) || 1;
      const by = new Map<string, number>();
      let idle = 0;
      for (const node of p.nodes) {
        const name = node.callFrame.functionName || '(anonymous)';
        if (name === '(idle)') idle += node.hitCount ?? 0;
        const key = `${name} ${node.callFrame.url ? shortUrl(node.callFrame.url) + ':' + (node.callFrame.lineNumber + 1) : ''}`.trim();
        by.set(key, (by.get(key) ?? 0) + (node.hitCount ?? 0));
      }
      const top = [...by.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([fn, hits]) => ({ fn, percent: (100 * hits) / total }));
      return { file, seconds: (p.endTime - p.startTime) / 1e6, busyPercent: (100 * (total - idle)) / total, top };
    });
}

/** Markdown lines for the report. */
export function profileMarkdown(threads: ThreadSummary[]): string[] {
  const out: string[] = [];
  for (const t of threads) {
    out.push(
      `- \`${t.file}\`: ${t.seconds.toFixed(1)} s profiled, ${t.busyPercent.toFixed(0)} % of samples not idle. Top self time: ` +
        t.top.map((x) => `${x.fn.replace(/\|/g, '/')} ${x.percent.toFixed(1)} %`).join('; '),
    );
  }
  return out;
}
