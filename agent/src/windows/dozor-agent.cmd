@echo off
rem Dozor agent launcher: dozor-agent.cmd run | install-service | uninstall-service (see README.txt).
rem Java: the runtime in .\jre if the package has one, else %JAVA_HOME%, else java.exe on the PATH (21+).
setlocal
set "HERE=%~dp0"
set "JAVA=java.exe"
if defined JAVA_HOME set "JAVA=%JAVA_HOME%\bin\java.exe"
if exist "%HERE%jre\bin\java.exe" set "JAVA=%HERE%jre\bin\java.exe"
rem Small footprint (measured in BENCHMARKS.md): serial GC, a heap that starts small and gives back what it frees,
rem small stacks and code cache, C1 only, one compiler thread.
set "JVM_FLAGS=-XX:+UseSerialGC -Xms4m -Xmx48m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10 -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=8m -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:-UsePerfData --enable-native-access=ALL-UNNAMED"
set "CMD=%~1"
if "%CMD%"=="" set "CMD=run"
if /I "%CMD%"=="uninstall-service" (
  "%JAVA%" %JVM_FLAGS% -jar "%HERE%dozor-agent.jar" uninstall-service
) else (
  "%JAVA%" %JVM_FLAGS% "-Ddozor.jvm.flags=%JVM_FLAGS%" -jar "%HERE%dozor-agent.jar" %CMD% --config "%HERE%agent.ini"
)
exit /b %ERRORLEVEL%
