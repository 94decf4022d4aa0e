"""Settings for `make slides` and `make html`: offline pages whose assets sit next to them in vendor/.

jupyter nbconvert --config tools/nbconvert_config.py --to slides ...
"""

c = get_config()  # noqa: F821 (nbconvert provides get_config)

c.TemplateExporter.extra_template_basedirs = ["tools/nbconvert_templates"]

# Slides: reveal.js with the white theme (it bundles its fonts; "simple" loads Google Fonts), one long
# scrollable slide per section, no transition, every asset from build/slides/vendor/.
c.SlidesExporter.template_name = "offline_reveal"
c.SlidesExporter.reveal_url_prefix = "vendor/reveal.js"
c.SlidesExporter.require_js_url = "vendor/requirejs/require.js"
c.SlidesExporter.jquery_url = "vendor/jquery/dist/jquery.min.js"
c.SlidesExporter.font_awesome_url = "vendor/font-awesome/css/font-awesome.min.css"
c.SlidesExporter.reveal_theme = "white"
c.SlidesExporter.reveal_scroll = True
c.SlidesExporter.reveal_transition = "none"

# HTML pages: JupyterLab's look; require.js from vendor/ (the solutions pages override the path).
c.HTMLExporter.template_name = "offline_lab"
c.HTMLExporter.require_js_url = "vendor/requirejs/require.js"

