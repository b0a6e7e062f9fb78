// One kernel log record as dmesg shows it: the printk level and the formatted text.
// Levels follow include/linux/kern_levels.h.
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;

export interface KernelLine {
  level: number;
  text: string;
}

export function line(level: number, text: string): KernelLine {
  return { level, text };
}
