export * from './schedules.js';
export * from './ksampler.js';
export { betaPpf, regularizedIncompleteBeta, logGamma, BetaDomainError } from './beta-ppf.js';
