// Text edits of the *Simulate insmod* parameter string, apart from the vscode API so that they
// can be tested in plain Node.

// Puts a completion into the parameter string in place of the word being typed: a name
// ("times=") replaces the whole last word; a value ("Y", "5") the part after its last `=` or
// `,`, and a whole array value ("5,10,15") everything after the `=`. A value is followed by a
// blank, ready for the next parameter. Words are split at blanks, as the kernel's next_arg does
// outside double quotes; a quoted value with blanks in it is completed as if it ended there.
export function insertCompletion(text: string, label: string): string {
  const wordStart = Math.max(text.lastIndexOf(' '), text.lastIndexOf('\t')) + 1;
  const word = text.slice(wordStart);
  const before = text.slice(0, wordStart);
  if (label.includes('=') || !word.includes('=')) return before + label;
  const valueStart = label.includes(',') ? word.indexOf('=') + 1
    : Math.max(word.lastIndexOf('='), word.lastIndexOf(',')) + 1;
  return before + word.slice(0, valueStart) + label + ' ';
}
