import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

export type UniPcVariant = 'bh1' | 'bh2';

/** Solves the small dense system A x = b by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
    [m[col], m[piv]] = [m[piv], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let k = col; k <= n; k++) m[r][k] -= f * m[col][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

// VP quantities of ComfyUI's SigmaConvert: alpha = 1/sqrt(1+s^2), std = s/sqrt(1+s^2), lambda = -ln s.
const alphaOf = (s: number): number => 1 / Math.sqrt(1 + s * s);
const stdOf = (s: number): number => s / Math.sqrt(1 + s * s);
const lambdaOf = (s: number): number => -Math.log(s);

/**
 * UniPC multistep predictor-corrector with B(h) = h (bh1) or e^h - 1 (bh2), data prediction (Zhao et al. 2023,
 * "UniPC", Algorithms 2-3), following ComfyUI comfy/extra_samplers/uni_pc.py: x is carried in VP scaling
 * x / sqrt(1 + sigma^2), the final sigma 0 becomes 0.001, order min(3, steps - 1), lower order at the end,
 * no corrector on the last step. The data prediction there equals D(x * sqrt(1 + sigma^2), sigma).
 * NOTE: for a single step ComfyUI returns the (scaled) input untouched; here that case takes one first-order step.
 */
export function makeUniPc(variant: UniPcVariant): Sampler {
  return async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    const steps = c.total;
    if (steps < 1) return x0;
    const ts = Float64Array.from(sigmas);
    if (ts[steps] === 0) ts[steps] = 0.001;
    const n = x0.size;

    const model = async (xv: Float32Array, s: number): Promise<Float32Array> => {
      const k = Math.sqrt(1 + s * s);
      const xk = new Float32Array(n);
      for (let i = 0; i < n; i++) xk[i] = xv[i] * k;
      return c.denoise(xk, s);
    };
    const report = async (i: number, xv: Float32Array, s: number, denoised: Float32Array): Promise<void> => {
      const k = Math.sqrt(1 + s * s);
      const xk = new Float32Array(n);
      for (let j = 0; j < n; j++) xk[j] = xv[j] * k;
      await c.step(i, xk, denoised);
    };

    const update = async (
      x: Float32Array,
      models: Float32Array[],
      times: number[],
      t: number,
      order: number,
      useCorrector: boolean,
    ): Promise<{ x: Float32Array; model: Float32Array | null }> => {
      const tPrev0 = times[times.length - 1];
      const mPrev0 = models[models.length - 1];
      const lambdaPrev0 = lambdaOf(tPrev0);
      const h = lambdaOf(t) - lambdaPrev0;
      const alphaT = alphaOf(t);
      const rks: number[] = [];
      const d1s: Float32Array[] = [];
      for (let i = 1; i < order; i++) {
        const rk = (lambdaOf(times[times.length - 1 - i]) - lambdaPrev0) / h;
        const mPrevI = models[models.length - 1 - i];
        const d = new Float32Array(n);
        for (let k = 0; k < n; k++) d[k] = (mPrevI[k] - mPrev0[k]) / rk;
        rks.push(rk);
        d1s.push(d);
      }
      rks.push(1);
      const hh = -h;
      const hPhi1 = Math.expm1(hh);
      const bH = variant === 'bh1' ? hh : Math.expm1(hh);
      const rows: number[][] = [];
      const b: number[] = [];
      let hPhiK = Math.expm1(hh) / hh - 1;
      let factorial = 1;
      for (let i = 1; i <= order; i++) {
        rows.push(rks.map((r) => r ** (i - 1)));
        b.push((hPhiK * factorial) / bH);
        factorial *= i + 1;
        hPhiK = hPhiK / hh - 1 / factorial;
      }
      const rhosP = d1s.length === 0 ? [] : order === 2 ? [0.5] : solve(rows.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
      const ratio = stdOf(t) / stdOf(tPrev0);
      const base = new Float32Array(n);
      for (let k = 0; k < n; k++) base[k] = ratio * x[k] - alphaT * hPhi1 * mPrev0[k];
      const xt = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        let res = 0;
        for (let j = 0; j < d1s.length; j++) res += rhosP[j] * d1s[j][k];
        xt[k] = base[k] - alphaT * bH * res;
      }
      if (!useCorrector) return { x: xt, model: null };
      const rhosC = order === 1 ? [0.5] : solve(rows, b);
      const mT = await model(xt, t);
      const last = rhosC[rhosC.length - 1];
      const corrected = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        let res = 0;
        for (let j = 0; j < d1s.length; j++) res += rhosC[j] * d1s[j][k];
        corrected[k] = base[k] - alphaT * bH * (res + last * (mT[k] - mPrev0[k]));
      }
      return { x: corrected, model: mT };
    };

    let x: Float32Array = new Float32Array(n);
    const scale0 = 1 / Math.sqrt(1 + ts[0] * ts[0]);
    for (let k = 0; k < n; k++) x[k] = x0.data[k] * scale0;
    const order = Math.max(1, Math.min(3, steps - 1));
    const models: Float32Array[] = [await model(x, ts[0])];
    const times: number[] = [ts[0]];
    await report(0, x, ts[0], models[0]);
    if (steps === 1) {
      x = (await update(x, models, times, ts[1], 1, false)).x;
    }
    for (let stepIndex = 1; stepIndex < steps; stepIndex++) {
      if (stepIndex < order) {
        const r = await update(x, models, times, ts[stepIndex], stepIndex, true);
        x = r.x;
        models.push(r.model ?? (await model(x, ts[stepIndex])));
        times.push(ts[stepIndex]);
        await report(stepIndex, x, ts[stepIndex], models[models.length - 1]);
        continue;
      }
      const lastStep = stepIndex === steps - 1 ? stepIndex + 1 : stepIndex;
      for (let step = stepIndex; step <= lastStep; step++) {
        const stepOrder = Math.min(order, steps + 1 - step);
        const r = await update(x, models, times, ts[step], stepOrder, step !== steps);
        x = r.x;
        times.shift();
        times.push(ts[step]);
        models.shift();
        if (step < steps) models.push(r.model ?? (await model(x, ts[step])));
        else models.push(models[models.length - 1]);
      }
      await report(stepIndex, x, ts[Math.min(lastStep, steps)], models[models.length - 1]);
    }
    const out = new Float32Array(n);
    const unscale = Math.sqrt(1 + ts[steps] * ts[steps]);
    for (let k = 0; k < n; k++) out[k] = x[k] * unscale;
    return c.tensor(out);
  };
}

export const sampleUniPc: Sampler = makeUniPc('bh1');
export const sampleUniPcBh2: Sampler = makeUniPc('bh2');
