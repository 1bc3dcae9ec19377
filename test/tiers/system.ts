// System tier: whole worker processes (npm start's program, bench, chaos); nothing is refused.
import { enterTier } from "./guard.ts";

enterTier("system");
