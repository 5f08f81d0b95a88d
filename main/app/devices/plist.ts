// Just enough of Apple's XML property-list format to read `diskutil list -plist`.

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

const TOKEN = /<(\/?)(dict|array|key|string|integer|real|true|false|data|date)(\s*\/)?>|([^<]+)/g;

const unescape = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

export function parsePlist(xml: string): PlistValue {
  const body = xml.replace(/<\?xml[^>]*>|<!DOCTYPE[^>]*>|<\/?plist[^>]*>/g, '');
  const stack: (PlistValue[] | { [k: string]: PlistValue })[] = [];
  const keys: (string | null)[] = [];
  let root: PlistValue | undefined;
  let open: string | null = null;
  let textBuf = '';
  const put = (v: PlistValue) => {
    const top = stack[stack.length - 1];
    if (!top) root = v;
    else if (Array.isArray(top)) top.push(v);
    else top[keys[keys.length - 1] ?? ''] = v;
  };
  for (const m of body.matchAll(TOKEN)) {
    const [, closing, tag, selfClose, txt] = m;
    if (txt !== undefined) {
      if (open) textBuf += txt;
      continue;
    }
    if (tag === 'dict' || tag === 'array') {
      if (closing) {
        const v = stack.pop()!;
        keys.pop();
        put(v);
      } else if (selfClose) put(tag === 'dict' ? {} : []);
      else {
        stack.push(tag === 'dict' ? {} : []);
        keys.push(null);
      }
    } else if (tag === 'true' || tag === 'false') put(tag === 'true');
    else if (!closing && selfClose) put(tag === 'key' ? '' : '');
    else if (!closing) {
      open = tag!;
      textBuf = '';
    } else {
      const v = unescape(textBuf);
      if (tag === 'key') keys[keys.length - 1] = v;
      else put(tag === 'integer' || tag === 'real' ? Number(v.trim()) : v);
      open = null;
    }
  }
  return root ?? {};
}
