// Preloaded (node --require) into every child service we spawn: when the parent dies for any
// reason — even SIGKILL — the child is re-parented and its ppid changes, and we exit too.
// (Watching stdin instead deadlocks tsx's module loader on Node 20.) This is what keeps a crashed
// test run or local stack from leaving orphan servers behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
