/** The version latentflow writes into `latentflow.version` of its saved UI documents (docs/workflow-formats.md). */
export const LATENTFLOW_UI_VERSION = 1;
