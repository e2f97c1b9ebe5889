// File names the CLI writes, derived from a model's name (compile, train and the browser demo share them).

/** A file name made only of safe characters, from a model name. */
export const fileStem = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || 'model';
