import { RoomId } from "../../src/ids/matrix";
import { Rota, RotaName } from "../../src/model/rota";
import { CachedRotas, ROTA_CACHE_TTL_MS } from "../../src/store/CachedRotas";
import { RotaSave, RotaStore } from "../../src/store/RotaStore";

const NAME = "on-call" as RotaName;
const ROTA = { name: NAME, roomId: "!team:example.org" as RoomId, version: 1 } as Rota;

/** A rota store in memory that counts its reads and can hold one back. */
class CountingRotas implements Partial<RotaStore> {
  reads = 0;
  rotas = new Map<RotaName, Rota>();
  hold?: Promise<void>;
  async getRota(name: RotaName): Promise<Rota | undefined> {
    this.reads++;
    const value = this.rotas.get(name);
    await this.hold;
    return value;
  }
  async saveRota(next: Rota): Promise<RotaSave> {
    this.rotas.set(next.name, next);
    return "saved";
  }
  async deleteRota(name: RotaName): Promise<boolean> {
    return this.rotas.delete(name);
  }
}

describe("rota lookups by name, cached", () => {
  let clock: number;
  let inner: CountingRotas;
  let rotas: CachedRotas;
  beforeEach(() => {
    clock = 0;
    inner = new CountingRotas();
    rotas = new CachedRotas(inner as unknown as RotaStore, () => clock);
  });

  it("answers a name that is no rota from memory until the TTL passes", async () => {
    for (let i = 0; i < 5; i++) expect(await rotas.getRota(NAME)).toBeUndefined();
    expect(inner.reads).toBe(1);
    clock += ROTA_CACHE_TTL_MS;
    expect(await rotas.getRota(NAME)).toBeUndefined();
    expect(inner.reads).toBe(2);
  });

  it("sees this process's own save and delete at once", async () => {
    expect(await rotas.getRota(NAME)).toBeUndefined();
    await rotas.saveRota(ROTA, 0);
    expect(await rotas.getRota(NAME)).toEqual(ROTA);
    await rotas.deleteRota(NAME, 1);
    expect(await rotas.getRota(NAME)).toBeUndefined();
    expect(inner.reads).toBe(3);
  });

  it("does not keep what a lookup read while a save was under way", async () => {
    let release!: () => void;
    inner.hold = new Promise((r) => (release = r));
    const racing = rotas.getRota(NAME);
    await rotas.saveRota(ROTA, 0);
    release();
    expect(await racing).toBeUndefined();
    inner.hold = undefined;
    expect(await rotas.getRota(NAME)).toEqual(ROTA);
  });
});
