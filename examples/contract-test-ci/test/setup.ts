// Registers toBeCanonical and toBeCanonicalEvent (listed in vitest.config.ts's setupFiles).
import "@millwright/testing/vitest";
