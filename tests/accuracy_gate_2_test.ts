/** The accuracy gate, part 2 of 2: see `_accuracy_gates.ts`. */
import { defineGates } from "./_accuracy_gates.ts";

await defineGates(1, 2);
