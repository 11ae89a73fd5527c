export * from './schedules.js';
export * from './calculate-sigmas.js';
export { betaPpf, regularizedIncompleteBeta, logGamma, BetaDomainError } from './beta-ppf.js';
