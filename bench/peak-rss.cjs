// Preloaded into a benchmarked kmodsim run (node --require): at exit, writes the process's
// peak resident set (all threads, in KB) to the file named by KMODSIM_PEAK_RSS_FILE.
const fs = require('node:fs');

process.on('exit', () => {
  const file = process.env.KMODSIM_PEAK_RSS_FILE;
  if (file) fs.writeFileSync(file, String(process.resourceUsage().maxRSS));
});
