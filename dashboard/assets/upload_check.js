/* The import page's first check of an upload, in the browser (dash_clientside): files too large for
   one upload, or of a kind hipline cannot read, are refused here with a message, before they are sent.
   The server checks again (a request need not come from this page). */
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.hipline = Object.assign(window.dash_clientside.hipline || {}, {
  checkUpload: function (contents, filenames, rules) {
    var keep = window.dash_clientside.no_update;
    if (!contents || !contents.length) {
      return [keep, keep, keep];
    }
    var total = 0;
    var unreadable = [];
    for (var i = 0; i < contents.length; i++) {
      var encoded = contents[i].slice(contents[i].indexOf(",") + 1);
      total += Math.floor((encoded.length * 3) / 4);
      var name = (filenames && filenames[i]) || "";
      var dot = name.lastIndexOf(".");
      var extension = dot >= 0 ? name.slice(dot).toLowerCase() : "";
      if (rules.extensions.indexOf(extension) < 0) { unreadable.push(name || "(no name)"); }
    }
    /* refused: say why, and take away the report of the upload before, which is not about these files */
    if (unreadable.length) {
      return [keep, "Not uploaded: " + unreadable.join(", ") + " is not a kind of file hipline reads (" +
              rules.extensions.join(" ") + ").", null];
    }
    if (total > rules.max_bytes) {
      return [keep, "Not uploaded: these files hold " + (total / 1048576).toFixed(1) +
              " MB, more than an upload may (" + rules.max_mb + " MB). Upload fewer files at once.", null];
    }
    return [Date.now(), null, keep];
  }
});
