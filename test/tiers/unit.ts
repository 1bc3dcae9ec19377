// Unit tier: pure logic. No child process, no server (test/tiers/guard.ts refuses both).
import { enterTier } from "./guard.ts";

enterTier("unit");
