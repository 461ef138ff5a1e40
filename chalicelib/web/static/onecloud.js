// Small enhancements only: every form works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Choosing a subject fills in its current weight (the reference weight of a new restriction).
  for (const select of document.querySelectorAll("select[data-fills]")) {
    select.addEventListener("change", () => {
      const target = document.getElementById(select.dataset.fills);
      const option = select.selectedOptions[0];
      if (target && option) target.value = option.dataset.weight || "";
    });
  }

  // A note's image goes straight to the data bucket (presigned PUT), never through the app's body limit.
  for (const form of document.querySelectorAll("form[data-direct-upload]")) {
    form.addEventListener("submit", async (event) => {
      const input = form.querySelector('input[type="file"]');
      if (!input || !input.files.length || form.dataset.uploaded) return;
      event.preventDefault();
      const status = form.querySelector("[data-upload-status]");
      const file = input.files[0];
      if (status) status.textContent = "Uploading " + file.name + "…";
      const body = new URLSearchParams({
        csrf_token: form.querySelector('input[name="csrf_token"]').value,
        filename: file.name, content_type: file.type || "application/octet-stream", size: String(file.size),
      });
      try {
        const asked = await fetch(form.dataset.directUpload, { method: "POST", body, credentials: "same-origin" });
        if (!asked.ok) throw new Error(await asked.text());
        const target = await asked.json();
        const put = await fetch(target.url, { method: "PUT", body: file, headers: target.headers });
        if (!put.ok) throw new Error("the store answered " + put.status);
        form.querySelector('input[name="image_key"]').value = target.key;
        input.disabled = true;
        form.dataset.uploaded = "1";
        form.submit();
      } catch (error) {
        if (status) status.textContent = "Upload failed: " + error.message;
      }
    });
  }

  // "Copy" buttons of the release pages copy the text of the element they name.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.innerText);
        button.textContent = "Copied";
      } catch (error) {
        window.getSelection().selectAllChildren(source);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  }
});
