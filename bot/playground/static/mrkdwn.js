// Slack's mrkdwn as DOM nodes: *bold*, _italic_, ~strike~, `code`, ```blocks```, <url|text> links,
// <@U…> mentions, <#C…> channels, <!date^…|fallback> dates, quotes and lists. Text from the bot is
// untrusted: every piece becomes a text node or an element built here, never HTML.

const EMOJI = {
  warning: "⚠️", rotating_light: "🚨", white_check_mark: "✅", x: "❌", information_source: "ℹ️",
  no_entry: "⛔", mega: "📣", double_vertical_bar: "⏸️", arrows_counterclockwise: "🔄",
  alarm_clock: "⏰", white_circle: "⚪", thumbsup: "👍", snowflake: "❄️", rewind: "⏪", pencil2: "✏️",
  no_entry_sign: "🚫", memo: "📝", mag: "🔍", lock: "🔒", keyboard: "⌨️", hourglass_flowing_sand: "⏳",
  heavy_minus_sign: "➖", fast_forward: "⏩", clock3: "🕒", large_green_circle: "🟢", red_circle: "🔴",
  large_yellow_circle: "🟡", hourglass: "⌛", fire: "🔥", eyes: "👀", tada: "🎉",
};

const INLINE = [
  { kind: "code", re: /`([^`\n]+)`/ },
  { kind: "angle", re: /<([^<>\n]+)>/ },
  { kind: "b", re: /(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])/ },
  { kind: "i", re: /(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])/ },
  { kind: "s", re: /(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])/ },
  { kind: "emoji", re: /:([a-z0-9_+-]+):/ },
];

export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Slack escapes &, < and > in message text; everything else is literal.
export function unescape(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function plainText(text) {
  return document.createTextNode(unescape(emojify(text || "")));
}

export function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
}

export function mrkdwn(text, ctx) {
  const root = el("div", "mrkdwn");
  const parts = (text || "").split("```");
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      root.append(el("pre", "code-block", unescape(part.replace(/^\n/, ""))));
    } else if (part) {
      appendLines(root, part, ctx);
    }
  });
  return root;
}

function appendLines(root, text, ctx) {
  let list = null;
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const item = /^\s*(?:[•◦▪\-*]|\d+[.)])\s+(.*)$/.exec(line);
    const quote = /^(?:>|&gt;)\s?(.*)$/.exec(line);
    if (item) {
      if (!list) {
        list = el("ul", "list");
        root.append(list);
      }
      list.append(el("li", null, inline(item[1], ctx)));
      return;
    }
    list = null;
    if (quote) {
      root.append(el("blockquote", null, inline(quote[1], ctx)));
    } else {
      root.append(inline(line, ctx));
      if (index < lines.length - 1) root.append(el("br"));
    }
  });
}

export function inline(text, ctx) {
  const fragment = document.createDocumentFragment();
  let rest = text;
  while (rest) {
    let first = null;
    for (const rule of INLINE) {
      const found = rule.re.exec(rest);
      if (found && (!first || found.index < first.found.index)) first = { rule, found };
    }
    if (!first) {
      fragment.append(document.createTextNode(unescape(rest)));
      break;
    }
    const { rule, found } = first;
    if (found.index) fragment.append(document.createTextNode(unescape(rest.slice(0, found.index))));
    fragment.append(token(rule.kind, found, ctx));
    rest = rest.slice(found.index + found[0].length);
  }
  return fragment;
}

function token(kind, found, ctx) {
  const inner = found[1];
  switch (kind) {
    case "code":
      return el("code", null, unescape(inner));
    case "angle":
      return angle(inner, ctx);
    case "emoji":
      return document.createTextNode(EMOJI[inner] || found[0]);
    default:
      return el(kind, null, inline(inner, ctx));
  }
}

function angle(inner, ctx) {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) {
    const name = (label || ctx.names[target.slice(1)] || target.slice(1)).replace(/^@/, "");
    return el("span", "mention", `@${name}`);
  }
  if (target.startsWith("#")) {
    return el("span", "mention", `#${label || ctx.channelName(target.slice(1))}`);
  }
  if (target.startsWith("!date^")) return date(target, label);
  if (target.startsWith("!subteam^")) return el("span", "mention", unescape(label || "@group"));
  if (target.startsWith("!")) return el("span", "mention", `@${target.slice(1)}`);
  return link(unescape(target), label === undefined ? unescape(target) : unescape(label), ctx);
}

export function link(url, label, ctx) {
  if (!/^(https?:|mailto:)/i.test(url)) return document.createTextNode(label);
  const anchor = el("a", null, label || url);
  anchor.href = url;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  anchor.title = `${url} (outside the playground)`;
  return anchor;
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

// <!date^1767225600^{date_short} at {time}|fallback>
function date(target, fallback) {
  const [, epoch, format, url] = target.split("^");
  const when = new Date(Number(epoch) * 1000);
  if (Number.isNaN(when.getTime()) || !format) return document.createTextNode(unescape(fallback || ""));
  const text = format.replace(/\{(\w+)\}/g, (whole, name) => dateToken(name, when) ?? whole);
  const node = el("time", "date", text);
  node.dateTime = when.toISOString();
  node.title = when.toString();
  if (url) return link(url, text, null);
  return node;
}

const DATE_OPTIONS = {
  date_num: { year: "numeric", month: "2-digit", day: "2-digit" },
  date: { year: "numeric", month: "long", day: "numeric" },
  date_short: { year: "numeric", month: "short", day: "numeric" },
  date_long: { weekday: "long", year: "numeric", month: "long", day: "numeric" },
  time: { hour: "2-digit", minute: "2-digit" },
  time_secs: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
};

function dateToken(name, when) {
  if (name === "ago") return ago(when);
  const pretty = name.match(/^(date(?:_short|_long)?)_pretty$/);
  if (pretty) {
    const days = Math.round((startOfDay(new Date()) - startOfDay(when)) / 86400000);
    if (days === 0) return "today";
    if (days === 1) return "yesterday";
    if (days === -1) return "tomorrow";
    return dateToken(pretty[1], when);
  }
  const options = DATE_OPTIONS[name];
  return options ? new Intl.DateTimeFormat(undefined, options).format(when) : null;
}

function startOfDay(when) {
  return new Date(when.getFullYear(), when.getMonth(), when.getDate()).getTime();
}

function ago(when) {
  const seconds = Math.round((Date.now() - when.getTime()) / 1000);
  const steps = [[60, "second"], [3600, "minute"], [86400, "hour"], [Infinity, "day"]];
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  let unit = 1;
  for (const [limit, name] of steps) {
    if (Math.abs(seconds) < limit) return format.format(-Math.round(seconds / unit), name);
    unit = limit;
  }
  return "";
}

// The markdown block takes standard Markdown: **bold**, [text](url) and # headings on top of mrkdwn.
export function markdown(text, ctx) {
  const converted = (text || "")
    .replace(/\*\*([^*\n]+)\*\*/g, "*$1*")
    .replace(/\[([^\]\n]+)\]\((https?:[^)\s]+)\)/g, "<$2|$1>")
    .replace(/^#{1,6}\s+(.+)$/gm, "*$1*");
  return mrkdwn(converted, ctx);
}
