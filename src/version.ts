// The compiler's version, stamped into every emitted module's header.
export const COMPILER_VERSION = '0.1.0';
