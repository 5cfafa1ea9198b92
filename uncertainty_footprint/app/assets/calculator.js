// The page state lives in the URL: after each valid update, replace the query string (no reload, no new
// history entry), so that a copied link reproduces the view.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    calculator: {
        replaceUrl: function (query) {
            if (query && window.location.search !== query) {
                window.history.replaceState(null, "", window.location.pathname + query);
            }
            return "";
        }
    }
});
