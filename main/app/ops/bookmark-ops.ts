// Bookmarks of the open dump: listed and saved under the dump's identity in the user's data
// directory, and exported as JSON to a new file the user names.

import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { BookmarkList } from '../../../contract/results.ts';
import { createNewFile, RefusedOutput } from '../../fs/new-file.ts';
import { dumpKey } from '../bookmarks.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, withSession } from '../context.ts';
import type { Session } from '../sessions.ts';
import { sessionView } from '../session-view.ts';

async function keyOf(s: Session): Promise<string> {
  const view = sessionView(s);
  const at = view.isCoreFile ? 0 : (s.params.dumpOffset ?? 0);
  const head = await view.file.read(at, 4096);
  // Unreadable bytes hash as zeros: the key stays stable; they are not shown to anyone.
  return dumpKey(head.data, s.opened.dump.size, at);
}

export async function listBookmarksOp(ctx: HandlerContext, a: OpParsedArgs<'listBookmarks'>): Promise<BookmarkList> {
  return withSession(ctx, a.sessionId, async (s) => {
    const key = await keyOf(s);
    return { dumpKey: key, bookmarks: await ctx.bookmarks.list(key) };
  });
}

export async function saveBookmarksOp(ctx: HandlerContext, a: OpParsedArgs<'saveBookmarks'>): Promise<BookmarkList> {
  return withSession(ctx, a.sessionId, async (s) => {
    const key = await keyOf(s);
    await ctx.bookmarks.save(key, s.params.dumpPath, a.bookmarks);
    return { dumpKey: key, bookmarks: await ctx.bookmarks.list(key) };
  });
}

export async function exportBookmarksOp(ctx: HandlerContext, a: OpParsedArgs<'exportBookmarks'>): Promise<{ path: string; count: number }> {
  return withSession(ctx, a.sessionId, async (s) => {
    const key = await keyOf(s);
    const bookmarks = await ctx.bookmarks.list(key);
    let fh;
    try {
      fh = await createNewFile(a.path, [s.params.dumpPath, s.params.kernelPath]);
    } catch (e) {
      throw new OpFailure('bad-request', e instanceof RefusedOutput ? e.message : `${a.path}: ${(e as Error).message}`);
    }
    try {
      await fh.writeFile(JSON.stringify({ schema: 'kvmdump-bookmarks/1', dumpKey: key, dumpPath: s.params.dumpPath, bookmarks }, null, 2) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    return { path: a.path, count: bookmarks.length };
  });
}
