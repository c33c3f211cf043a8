from mochung.cli import app

app(prog_name="mochung")
