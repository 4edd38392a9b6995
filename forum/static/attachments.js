// Attachments: the lightbox for images in posts, the editor's uploads (drag and drop,
// paste, or the file field), and renderAttachments, which live.js uses for posts that
// arrive live. The pages work without this script: image links open the image, and the
// file field sends its files with the form.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

// Mirrors templates/partials/attachments.html.
export function renderAttachments(items, labels) {
  const box = el("div", "attachments");
  box.dataset.labelClose = labels.close;
  box.dataset.labelPrevious = labels.previous;
  box.dataset.labelNext = labels.next;
  const images = items.filter((a) => a.kind === "image");
  const documents = items.filter((a) => a.kind !== "image");
  if (images.length) {
    const list = el("ul", "attachment-images");
    list.setAttribute("aria-label", labels.images);
    for (const a of images) {
      const scale = Math.min(1, 320 / Math.max(a.width || 320, a.height || 320));
      const link = el("a", "attachment-image");
      link.href = a.url;
      const img = el("img");
      img.src = a.thumbnail_url || a.url;
      img.alt = a.name;
      img.loading = "lazy";
      img.width = Math.round((a.width || 320) * scale);
      img.height = Math.round((a.height || 320) * scale);
      link.append(img);
      const item = el("li");
      item.append(link);
      list.append(item);
    }
    box.append(list);
  }
  if (documents.length) {
    const list = el("ul", "attachment-documents");
    list.setAttribute("aria-label", labels.documents);
    for (const a of documents) {
      const link = el("a");
      link.href = a.url;
      link.download = a.name;
      link.append(
        el("span", "attachment-name", a.name), " ",
        el("span", "attachment-type", a.name.split(".").pop().toUpperCase()), " ",
        el("span", "attachment-size", fileSize(a.size)),
      );
      const item = el("li", "attachment-card");
      item.append(link);
      list.append(item);
    }
    box.append(list);
  }
  return box;
}

// As Jinja's filesizeformat, which the server's pages use.
export function fileSize(bytes) {
  if (bytes === 1) return "1 Byte";
  if (bytes < 1000) return `${bytes} Bytes`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- the lightbox: Escape closes (a native dialog), arrow keys move, focus comes back ---

let dialog = null;

function openLightbox(link) {
  const links = [...link.closest(".attachment-images").querySelectorAll("a.attachment-image")];
  const box = link.closest(".attachments");
  let index = links.indexOf(link);
  if (!dialog) dialog = buildDialog();
  const [figure, image, caption, previous, next, close] = dialog.parts;
  close.textContent = box.dataset.labelClose;
  previous.textContent = box.dataset.labelPrevious;
  next.textContent = box.dataset.labelNext;
  previous.hidden = next.hidden = links.length < 2;
  const show = () => {
    const current = links[index];
    image.src = current.href;
    image.alt = current.querySelector("img")?.alt || "";
    caption.textContent = image.alt;
  };
  dialog.move = (step) => { index = (index + step + links.length) % links.length; show(); };
  dialog.opener = link;
  show();
  figure.setAttribute("aria-label", image.alt);
  dialog.showModal();
  close.focus();
}

function buildDialog() {
  const node = el("dialog", "lightbox");
  const figure = el("figure");
  const image = el("img");
  const caption = el("figcaption");
  const controls = el("div", "lightbox-controls");
  const previous = el("button");
  const next = el("button");
  const close = el("button");
  for (const button of [previous, next, close]) button.type = "button";
  controls.append(previous, next, close);
  figure.append(image, caption, controls);
  node.append(figure);
  document.body.append(node);
  node.parts = [figure, image, caption, previous, next, close];
  previous.addEventListener("click", () => node.move(-1));
  next.addEventListener("click", () => node.move(1));
  close.addEventListener("click", () => node.close());
  node.addEventListener("click", (event) => { if (event.target === node) node.close(); });
  node.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") { event.preventDefault(); node.move(-1); }
    if (event.key === "ArrowRight") { event.preventDefault(); node.move(1); }
  });
  node.addEventListener("close", () => node.opener?.focus());
  return node;
}

document.addEventListener("click", (event) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest?.("a.attachment-image");
  if (!link || !("HTMLDialogElement" in window)) return;
  event.preventDefault();
  openLightbox(link);
});

// --- the editor: files uploaded as they are chosen, dropped or pasted ---------------------

function setUpEditor(editor) {
  const form = editor.closest("form");
  const input = editor.querySelector('input[type="file"][name="files"]');
  const pending = editor.querySelector(".attachment-pending");
  if (!form || !input || !pending || !window.fetch) return;
  const labels = editor.dataset;

  async function send(file) {
    const item = el("li", "", `${file.name} — ${labels.labelUploading}`);
    pending.append(item);
    const body = new FormData();
    body.append("file", file, file.name || "pasted.png");
    let answer = null;
    try {
      const response = await fetch(editor.dataset.uploadUrl, {
        method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() },
      });
      answer = await response.json();
      if (!response.ok) throw new Error(answer?.error?.message || labels.labelFailed);
    } catch (error) {
      item.textContent = `${file.name} — ${error.message || labels.labelFailed}`;
      item.classList.add("field-error");
      return;
    }
    item.textContent = "";
    const hidden = el("input");
    hidden.type = "hidden";
    hidden.name = "attachments";
    hidden.value = answer.id;
    const remove = el("button", "small-button", labels.labelRemove);
    remove.type = "button";
    remove.setAttribute("aria-label", `${labels.labelRemove}: ${answer.name}`);
    remove.addEventListener("click", () => item.remove());
    item.append(hidden, el("span", "attachment-name", answer.name), " ",
      el("span", "attachment-size", fileSize(answer.size)), " ", remove);
  }

  const sendAll = (files) => { for (const file of files) send(file); };
  input.addEventListener("change", () => {
    sendAll([...input.files]);
    input.value = ""; // sent already: not a second time with the form
  });
  const area = form.querySelector("textarea") || form;
  for (const target of new Set([area, editor])) {
    target.addEventListener("dragover", (event) => {
      if (![...(event.dataTransfer?.types || [])].includes("Files")) return;
      event.preventDefault();
      editor.classList.add("dragging");
    });
    target.addEventListener("dragleave", () => editor.classList.remove("dragging"));
    target.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.files?.length) return;
      event.preventDefault();
      editor.classList.remove("dragging");
      sendAll([...event.dataTransfer.files]);
    });
  }
  area.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    sendAll(files);
  });
}

for (const editor of document.querySelectorAll(".attachment-editor")) setUpEditor(editor);
