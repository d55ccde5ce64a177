FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only EMAIL_URL=dummymail:// python manage.py collectstatic --noinput
RUN useradd --create-home apilo && chown -R apilo /app
USER apilo
EXPOSE 8000
# The access log goes to stdout with the OAuth callback's query strings redacted.
CMD ["gunicorn", "apilo.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", \
     "--logger-class", "core.gunicorn_logging.RedactingLogger"]
