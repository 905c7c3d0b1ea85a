// Preloaded (node --require) into every child service we spawn: the parent holds our stdin
// open, so when the parent dies for any reason — even SIGKILL — stdin ends and we exit too.
// This is what keeps a crashed test run or local stack from leaving orphan servers behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
