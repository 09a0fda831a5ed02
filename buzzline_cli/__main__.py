from buzzline_cli.cli import app

app(prog_name="buzzline")
