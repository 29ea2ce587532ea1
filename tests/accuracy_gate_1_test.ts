/** The accuracy gate, part 1 of 2: see `_accuracy_gates.ts`. */
import { defineGates } from "./_accuracy_gates.ts";

await defineGates(0, 2);
