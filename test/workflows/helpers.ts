/** Inputs for the shipped workflows: the same example pictures `latentflow toyworld` writes into input/. */
import { writeExampleInputs } from '../../toyworld/example-inputs.js';

/** toyworld-red-circle.png (img2img), toyworld-inpaint.png (right half transparent = mask), shape.png. */
export async function writeWorkflowInputs(dir: string): Promise<void> {
  await writeExampleInputs(dir);
}
