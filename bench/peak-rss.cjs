// Preloaded into a benchmarked kmodsim run (node --require): at exit, writes the process's
// peak resident set (all threads, in KB) and its CPU time (user + system, all threads, in
// seconds) to the file named by KMODSIM_PEAK_RSS_FILE, as "KB SECONDS". The peak is VmHWM,
// the high-water mark of this process's own memory: getrusage's ru_maxrss would carry over a
// larger parent's across execve.
const fs = require('node:fs');

process.on('exit', () => {
  const file = process.env.KMODSIM_PEAK_RSS_FILE;
  if (!file) return;
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  const cpu = process.cpuUsage();
  fs.writeFileSync(file, `${hwm ? hwm[1] : process.resourceUsage().maxRSS} ` +
    `${(cpu.user + cpu.system) / 1e6}`);
});
