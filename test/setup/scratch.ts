import { afterAll } from "vitest";
import { removeScratchDirs } from "../helpers/scratch.js";

// setupFiles run in every test file's context, so this afterAll ends each file.
afterAll(removeScratchDirs);
