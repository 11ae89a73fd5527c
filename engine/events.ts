import type { PreviewImage, UiOutput } from './define-node.js';

/** The engine's typed event stream: ComfyUI's WebSocket message set, consumed by server, CLI and editor. */
export type EngineEvent =
  | { type: 'execution_start'; data: { prompt_id: string; timestamp: number } }
  | { type: 'execution_cached'; data: { nodes: string[]; prompt_id: string; timestamp: number } }
  | { type: 'executing'; data: { node: string; display_node: string; prompt_id: string } }
  | { type: 'progress'; data: { value: number; max: number; prompt_id: string; node: string }; preview?: PreviewImage }
  | { type: 'executed'; data: { node: string; display_node: string; output: UiOutput; prompt_id: string } }
  | { type: 'execution_success'; data: { prompt_id: string; timestamp: number } }
  | {
      type: 'execution_error';
      data: {
        prompt_id: string;
        node_id: string;
        node_type: string;
        executed: string[];
        exception_message: string;
        exception_type: string;
        traceback: string[];
        current_inputs: Record<string, unknown>;
        current_outputs: Record<string, unknown>;
        timestamp: number;
      };
    }
  | { type: 'execution_interrupted'; data: { prompt_id: string; node_id: string; node_type: string; executed: string[]; timestamp: number } };

export type EngineEventType = EngineEvent['type'];
export type EventListener = (event: EngineEvent) => void;
