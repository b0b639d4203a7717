/** A bench child process (the homeserver, or the bridge) driven over IPC:
 *  each command gets an id, and its answer resolves that command's promise. */
import { fork, ChildProcess } from "node:child_process";
import { join } from "node:path";

export class Child {
  private nextId = 0;
  private readonly pending = new Map<number, (m: any) => void>();
  private constructor(private readonly child: ChildProcess, readonly ready: any) {
    child.on("message", (m: any) => { if (m.id !== undefined) { this.pending.get(m.id)?.(m); this.pending.delete(m.id); } });
  }

  /** Forks bench/`script` (TypeScript, through scripts/register-ts.cjs) and waits for its first message. */
  static start(script: string, serverName: string, execArgv: string[] = []): Promise<Child> {
    const child = fork(join(__dirname, script), [], {
      execArgv: [...execArgv, "-r", join(__dirname, "..", "scripts", "register-ts.cjs")],
      env: { ...process.env, BENCH_SERVER_NAME: serverName },
    });
    return new Promise((resolve) => child.once("message", (m: any) => resolve(new Child(child, m))));
  }

  /** For reading its CPU time from /proc. */
  get pid(): number {
    return this.child.pid!;
  }

  call(cmd: string, payload: object = {}): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => m.error ? reject(new Error(m.error)) : resolve(m.result));
      this.child.send({ id, cmd, ...payload });
    });
  }
}
