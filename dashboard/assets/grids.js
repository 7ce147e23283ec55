/* The grids on a tablet (docs/dashboard.md: at 820 px the columns that matter stay in view). A clientside callback
   runs this once for each grid shown (dashboard/components.py, keep_in_view): once the grid is ready, and
   whenever its size changes, a column whose definition says `context.lastBelow` moves after the others
   while the grid is narrower than that many px, and every column is back in its defined order when it is
   wider. Only the order changes: widths, sorting and filters stay as they are. */
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.hipline = Object.assign(window.dash_clientside.hipline || {}, {
  keepInView: function (gridId) {
    dash_ag_grid.getApiAsync(gridId).then(function (api) {
      var arrange = function () {
        var grid = document.getElementById(gridId);
        if (api.isDestroyed() || !grid || !grid.clientWidth) { return; }  // a grid taken down as its page is left
        var kept = [], moved = [];
        api.getColumns().forEach(function (column) {
          var context = column.getColDef().context;
          (context && grid.clientWidth < context.lastBelow ? moved : kept).push({ colId: column.getColId() });
        });
        api.applyColumnState({ state: kept.concat(moved), applyOrder: true });
      };
      api.addEventListener("gridSizeChanged", arrange);
      arrange();
    });
    return window.dash_clientside.no_update;
  },

  /* The caseload's count of clients shown, after the grid's own column filters too (they narrow the rows
     here, in the browser): the same words as dashboard/pages/caseload.py writes for the server's filters. */
  countShown: function (rows) {
    if (!rows) { return window.dash_clientside.no_update; }
    return rows.length + (rows.length === 1 ? " client" : " clients") + " shown, most urgent first";
  }
});
