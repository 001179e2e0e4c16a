"""The HTML page of save_backward_html: the stepper (micrograd.viz.stepper) in a page of its
own, with a Content-Security-Policy that forbids the page any network access."""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>micrograd: the backward pass, step by step</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1rem 2rem; color: #111827; }
  h1 { font-size: 1.2rem; }
</style>
</head>
<body>
<h1>The backward pass, step by step</h1>
{{STEPPER}}
</body>
</html>
"""
