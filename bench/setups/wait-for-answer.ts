/** Resolves once `url` answers with `status`; rejects after `ms`. */
export async function waitForAnswer(url: string, status: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === status) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer ${status} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
