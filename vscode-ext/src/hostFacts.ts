// The real file system and environment behind `HostFacts`. Node only, no `vscode` import.

import * as fs from "fs";
import * as os from "os";
import type { HostFacts } from "./findShim";

export function nodeHostFacts(env: NodeJS.ProcessEnv = process.env): HostFacts {
  return {
    platform: process.platform,
    env,
    home: os.homedir(),
    isExecutableFile: (p) => {
      try {
        if (!fs.statSync(p).isFile()) return false;
        if (process.platform !== "win32") fs.accessSync(p, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    isDirectory: (p) => {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
  };
}
