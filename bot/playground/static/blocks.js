// Block Kit as DOM: header, section (mrkdwn, fields, accessory), context, divider, actions, image,
// markdown, and the input blocks of modals. `ctx.act(element, blockId)` is called for a clicked
// button or a chosen option; inputs keep their state in the DOM until `readInputs` collects it.

import { el, emojify, link, markdown, mrkdwn, plainText } from "./mrkdwn.js";

export function renderBlocks(blocks, ctx) {
  const root = el("div", "blocks");
  (blocks || []).forEach((block, index) => root.append(renderBlock(block, index, ctx)));
  return root;
}

function renderBlock(block, index, ctx) {
  const blockId = block.block_id || `block-${index}`;
  const node = BLOCKS[block.type] ? BLOCKS[block.type](block, ctx, blockId) : unsupported(block.type);
  node.dataset.blockId = blockId;
  return node;
}

const BLOCKS = {
  header: (block) => el("h3", "block header", plainText(block.text?.text)),
  divider: () => el("hr", "block divider"),
  section: (block, ctx, blockId) => {
    const node = el("div", "block section");
    const body = el("div", "section-body");
    if (block.text) body.append(text(block.text, ctx));
    if (block.fields) body.append(el("div", "fields", ...block.fields.map((f) => text(f, ctx))));
    node.append(body);
    if (block.accessory) node.append(element(block.accessory, ctx, blockId));
    return node;
  },
  context: (block, ctx) =>
    el("div", "block context", ...(block.elements || []).map((e) => (e.type === "image" ? image(e) : text(e, ctx)))),
  actions: (block, ctx, blockId) =>
    el("div", "block actions", ...(block.elements || []).map((e) => element(e, ctx, blockId))),
  image: (block) => {
    const figure = el("figure", "block image", image(block));
    if (block.title) figure.append(el("figcaption", null, plainText(block.title.text)));
    return figure;
  },
  markdown: (block, ctx) => el("div", "block markdown", markdown(block.text, ctx)),
  input: (block, ctx, blockId) => {
    const node = el("label", "block input");
    const optional = block.optional ? el("span", "optional", " (optional)") : null;
    node.append(el("span", "input-label", plainText(block.label?.text), optional));
    node.append(input(block.element || {}, ctx, blockId));
    if (block.hint) node.append(el("span", "hint", plainText(block.hint.text)));
    node.append(el("span", "input-error"));
    return node;
  },
  rich_text: (block, ctx) => el("div", "block rich-text", mrkdwn(richText(block), ctx)),
};

export function text(object, ctx) {
  if (!object) return el("span");
  if (object.type === "mrkdwn") return mrkdwn(object.text, ctx);
  return el("span", "plain", plainText(object.text));
}

function image(object) {
  // Only this server's own pictures load: the playground fetches nothing from elsewhere.
  const url = object.image_url || "";
  if (url.startsWith("/files/") || url.startsWith(`${location.origin}/`)) {
    const img = el("img");
    img.src = url;
    img.alt = object.alt_text || "";
    return img;
  }
  const note = el("span", "image-placeholder", `🖼 ${object.alt_text || "image"} `);
  if (url) note.append(link(url, "(not loaded: outside this machine)", null));
  return note;
}

function element(object, ctx, blockId) {
  switch (object.type) {
    case "button":
      return button(object, ctx, blockId);
    case "static_select":
    case "overflow":
      return chooser(object, ctx, blockId);
    case "image":
      return image(object);
    default:
      return unsupported(object.type);
  }
}

function button(object, ctx, blockId) {
  const node = el("button", `btn ${object.style || "default"}`, plainText(object.text?.text));
  node.type = "button";
  node.dataset.actionId = object.action_id || "";
  if (object.url) {
    node.title = `${object.url} (outside the playground)`;
  }
  node.addEventListener("click", async () => {
    if (object.url) window.open(object.url, "_blank", "noopener,noreferrer");
    if (object.confirm && !(await ctx.confirm(object.confirm))) return;
    node.disabled = true;
    try {
      await ctx.act(object, blockId, object.value || "");
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

function chooser(object, ctx, blockId) {
  const select = el("select", "chooser");
  select.dataset.actionId = object.action_id || "";
  const prompt = object.placeholder?.text || (object.type === "overflow" ? "⋯" : "Choose");
  select.append(option("", emojify(prompt)));
  for (const choice of allOptions(object)) select.append(option(choice.value, choice.text.text));
  select.addEventListener("change", () => {
    const choice = allOptions(object).find((c) => c.value === select.value);
    if (choice) ctx.act({ ...object, selected_option: choice }, blockId, choice.value);
  });
  return select;
}

function input(object, ctx, blockId) {
  const actionId = object.action_id || "input";
  let node;
  if (object.type === "plain_text_input" && object.multiline) {
    node = el("textarea");
    node.value = object.initial_value || "";
  } else if (object.type === "plain_text_input" || object.type === "number_input") {
    node = el("input");
    node.type = object.type === "number_input" ? "number" : "text";
    if (object.type === "number_input" && object.is_decimal_allowed) node.step = "any";
    node.value = object.initial_value || "";
  } else if (object.type === "static_select" || object.type === "conversations_select") {
    node = el("select");
    node.append(option("", object.placeholder?.text || "Choose"));
    const choices =
      object.type === "static_select"
        ? allOptions(object).map((c) => [c.value, c.text.text])
        : ctx.channels.map((c) => [c.id, `#${c.name}`]);
    for (const [value, label] of choices) node.append(option(value, label));
    node.value = object.initial_option?.value || object.initial_conversation || "";
  } else {
    return unsupported(object.type);
  }
  if (object.placeholder && "placeholder" in node) node.placeholder = object.placeholder.text;
  node.dataset.blockId = blockId;
  node.dataset.actionId = actionId;
  node.dataset.type = object.type;
  node.className = "field";
  return node;
}

// Slack's view.state.values: {block_id: {action_id: {type, value | selected_option | …}}}
export function readInputs(root, view) {
  const values = {};
  const options = optionsById(view);
  for (const field of root.querySelectorAll(".field")) {
    const { blockId, actionId, type } = field.dataset;
    let state;
    if (type === "static_select") {
      state = { type, selected_option: field.value ? options[`${blockId}/${actionId}`]?.[field.value] : null };
    } else if (type === "conversations_select") {
      state = { type, selected_conversation: field.value || null };
    } else {
      state = { type, value: field.value === "" ? null : field.value };
    }
    values[blockId] = { ...(values[blockId] || {}), [actionId]: state };
  }
  return values;
}

function optionsById(view) {
  const found = {};
  (view.blocks || []).forEach((block, index) => {
    const element = block.element || {};
    if (element.type !== "static_select") return;
    const key = `${block.block_id || `block-${index}`}/${element.action_id || "input"}`;
    found[key] = Object.fromEntries(allOptions(element).map((c) => [c.value, c]));
  });
  return found;
}

function allOptions(object) {
  return [...(object.options || []), ...(object.option_groups || []).flatMap((g) => g.options || [])];
}

function option(value, label) {
  const node = el("option", null, emojify(label));
  node.value = value;
  return node;
}

function richText(block) {
  const pieces = [];
  for (const section of block.elements || []) {
    for (const item of section.elements || []) {
      if (item.type === "text") pieces.push(item.text);
      else if (item.type === "user") pieces.push(`<@${item.user_id}>`);
      else if (item.type === "link") pieces.push(`<${item.url}|${item.text || item.url}>`);
    }
  }
  return pieces.join("");
}

function unsupported(type) {
  return el("div", "block unsupported", `(${type || "unknown"} element: not drawn by the playground)`);
}
