import subprocess
import sys


def test_importing_core_pulls_no_web_db_or_dataset_modules():
    code = (
        "import sys, llmlab_core\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "{'genai_prices', 'httpx', 'sqlmodel', 'sqlalchemy', 'fastapi', 'reflex'}]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_are_exported():
    import llmlab_core

    for name in llmlab_core.__all__:
        assert hasattr(llmlab_core, name), name
