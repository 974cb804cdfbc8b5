import { main, processIo } from "./main.js";

/** The exit code when the reader of standard output goes away: 128 + SIGPIPE, as a Unix tool that the signal ends. */
const EXIT_PIPE_CLOSED = 141;

// A reader that stops early (| head) closes the pipe: the next write fails with EPIPE. That is the
// end of the command, not a crash: stop quietly. Standard error may be a closed pipe too; what
// would go there is lost either way.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(EXIT_PIPE_CLOSED);
  throw error;
});
process.stderr.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
